"""The simulated tools' wire sides, one per protocol family (Modbus PLC, SCPI, ASCII host link)."""
