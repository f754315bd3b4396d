"""The self-hosting files say what the README says (no Docker engine runs here to build them)."""

import yaml

from .conftest import REPO


def test_dockerfile_runs_the_app_like_make_run():
    text = (REPO / "Dockerfile").read_text()
    assert 'streamlit", "run", "app.py"' in text and "pip install" in text and "-r requirements.txt" in text
    assert "TORCH_INDEX" in text  # a CPU build by default, a CUDA one by a build argument


def test_compose_has_the_app_a_proxy_and_a_turn_server():
    compose = yaml.safe_load((REPO / "deploy" / "compose.yaml").read_text())
    assert set(compose["services"]) == {"app", "caddy", "turn"}
    assert "SLR_ICE_SERVERS" in compose["services"]["app"]["environment"]
    caddy = (REPO / "deploy" / "Caddyfile").read_text()
    assert "lb_policy cookie" in caddy and "reverse_proxy app:8501" in caddy
    env = (REPO / "deploy" / ".env.example").read_text()
    assert all(key in env for key in ("DOMAIN", "TURN_USER", "TURN_PASSWORD", "TURN_IP"))
