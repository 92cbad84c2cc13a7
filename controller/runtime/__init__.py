"""The cabinet runtime: the long-lived service, its field bus, its record and its status."""
