"""Modbus RTU, sans-IO: the layers behind `protocols.modbus_rtu` (import that instead)."""
