"""Pure domain of uchet: readings, channels and units, validation rules, billing.

Nothing here does I/O or imports asyncio, asyncpg, aiomqtt, pymodbus or fastapi.
"""
