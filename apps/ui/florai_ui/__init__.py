"""FlorAI web UI: a Streamlit page that calls the FlorAI API server side."""
