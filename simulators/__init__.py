"""Device simulators with faults and ground truth: MQTT fleets, Modbus servers, ASKUE files."""
