"""Modbus TCP source: device profiles, device lists, block planning and the poller."""

from adapters.modbus.devices import Device, load_devices
from adapters.modbus.errors import DeviceException, DeviceTimeout, GatewayUnreachable, ModbusError
from adapters.modbus.poller import DeviceHealth, ListSink, Poller, PollerStats, ReadingSink
from adapters.modbus.profile import Profile, RegisterSpec, builtin_profiles, resolve_profile

__all__ = [
    "Device",
    "DeviceException",
    "DeviceHealth",
    "DeviceTimeout",
    "GatewayUnreachable",
    "ListSink",
    "ModbusError",
    "Poller",
    "PollerStats",
    "Profile",
    "ReadingSink",
    "RegisterSpec",
    "builtin_profiles",
    "load_devices",
    "resolve_profile",
]
