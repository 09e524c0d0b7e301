"""Adapters: everything that talks to the outside (MQTT, Modbus, ASKUE files, PostgreSQL)."""
