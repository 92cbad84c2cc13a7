"""The test rig: emulated boards, RS-485 bus, traffic drivers, signal monitor."""
