"""FlorAI inference services (identify, diagnose, growth-stage, consent) in one package."""
