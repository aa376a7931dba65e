"""The back office's HTTP app: the broker's API (nexus/broker/api.py) with the Tradebot's
operator routes (nexus/tradebot/broker_api.py) mounted on the same /api/v1 router.

The one module that knows both: the broker never imports the Tradebot, the Tradebot builds on
the broker, and `nexus broker serve` and the tests serve what this assembles.
"""

from __future__ import annotations

from fastapi import FastAPI

from nexus.broker.api import create_app as broker_app
from nexus.broker.context import Broker
from nexus.tradebot.broker_api import tradebot_routes


def create_app(broker: Broker) -> FastAPI:
    return broker_app(broker, tradebot_routes)
