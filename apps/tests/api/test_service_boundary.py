"""The service boundary: in process mode the server process loads no model, imports no torch and never
decodes an image (predict and explain run in the workers); in thread mode an explained image is
decoded once; the HTTP layer only maps the service layer's domain errors."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from florai import contract
from florai.api import errors as api_errors
from florai.inference import execution, images
from florai.services import errors as domain_errors

API = contract.API_PREFIX

SERVER_PROCESS = textwrap.dedent(
    """
    import asyncio, io, json, sys
    from PIL import Image
    import httpx
    from florai.api import create_app
    from florai.settings import Settings

    def main():
        settings = Settings(data_dir=sys.argv[1], models_dir=sys.argv[2], api_key="boundary-key-0123456789",
                            services=("diagnose",), inference_processes=1)
        app = create_app(settings)
        out = io.BytesIO()
        Image.new("RGB", (200, 150), (30, 140, 60)).save(out, "PNG")

        async def run():
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                    answer = await client.post(
                        "/api/v1/diagnose?explain=true",
                        files={"file": ("a.png", out.getvalue(), "image/png")},
                        headers={"X-API-Key": "boundary-key-0123456789"})
                runner = type(app.state.runtime.engines["diagnose"].runner).__name__
                return answer.status_code, bool(answer.json().get("heatmap_png_base64")), runner

        status, explained, runner = asyncio.run(run())
        print(json.dumps({"status": status, "explained": explained, "runner": runner,
                          "torch": "torch" in sys.modules}))

    if __name__ == "__main__":
        main()
    """
)


def test_the_server_process_loads_no_model_and_imports_no_torch(tmp_path, models_dir):
    script = tmp_path / "server_process.py"
    script.write_text(SERVER_PROCESS)
    result = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "data"), models_dir],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"status": 200, "explained": True, "runner": "WorkerPool", "torch": False}


def test_the_server_process_never_decodes_an_image(serve, dev_headers, make_png, monkeypatch):
    with serve(services=("diagnose",), inference_processes=1) as client:

        def refuse(*args: object, **kwargs: object) -> None:
            raise AssertionError("an image was decoded in the server process")

        monkeypatch.setattr(images, "decode_image", refuse)  # the workers have their own copy
        files = {"file": ("a.png", make_png((9, 99, 199)), "image/png")}
        for query in ("", "?explain=true"):
            answer = client.post(f"{API}/diagnose{query}", files=files, headers=dev_headers)
            assert answer.status_code == 200, answer.text
        assert answer.json()["heatmap_png_base64"] and answer.json()["cache"] == "miss"


def test_thread_mode_decodes_an_explained_image_once(serve, dev_headers, make_png, monkeypatch):
    decodes: list[int] = []
    decode = execution.decode_for_model

    def counting(data: bytes, manifest):  # noqa: ANN001, ANN202
        decodes.append(len(data))
        return decode(data, manifest)

    monkeypatch.setattr(execution, "decode_for_model", counting)
    with serve(services=("diagnose",), inference_worker="thread") as client:
        files = {"file": ("a.png", make_png((8, 88, 188)), "image/png")}
        answer = client.post(f"{API}/diagnose?explain=true", files=files, headers=dev_headers)
        assert (
            answer.status_code == 200
            and answer.json()["explained_label"] == answer.json()["predictions"][0]["id"]
        )
    assert len(decodes) == 1


def domain_error_classes() -> list[type[domain_errors.ServiceError]]:
    return [
        value
        for value in vars(domain_errors).values()
        if isinstance(value, type)
        and issubclass(value, domain_errors.ServiceError)
        and value is not domain_errors.ServiceError
    ]


@pytest.mark.parametrize("kind", domain_error_classes(), ids=lambda k: k.__name__)
def test_every_domain_error_has_one_status_and_a_code(kind):
    assert kind in api_errors.STATUS and 400 <= api_errors.STATUS[kind] < 600
    assert kind.code != domain_errors.ServiceError.code


def test_the_http_layer_alone_speaks_http():
    services = Path(domain_errors.__file__).parent
    for module in sorted(services.glob("*.py")):
        source = module.read_text()
        assert "fastapi" not in source and "starlette" not in source, module.name
        assert "status_code" not in source, module.name
