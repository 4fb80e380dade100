"""A small service with the pitfalls pitfall looks for."""

import os

import requests
from flask import Flask

app = Flask(__name__)
session = requests.Session()


def fetch_orders(base_url: str) -> dict:
    return session.get(f"{base_url}/orders").json()


def fetch_user(base_url: str, user_id: str) -> dict:
    return requests.get(f"{base_url}/users/{user_id}", timeout=5, verify=False).json()


def fetch_health(base_url: str) -> bool:
    return requests.get(f"{base_url}/healthz", timeout=2).ok


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", "8080")))
