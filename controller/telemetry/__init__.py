"""The cabinet's telemetry to the city: state changes as MQTT messages (model.py, no I/O).

The outbox that keeps them across a broker outage is in runtime/record.py, the MQTT edge
that sends them in runtime/publisher.py; docs/TELEMETRY.md lists every topic and payload.
"""

from .model import Message, Telemetry, intersection_alarms, node_alarms, status_topic

__all__ = ["Message", "Telemetry", "intersection_alarms", "node_alarms", "status_topic"]
