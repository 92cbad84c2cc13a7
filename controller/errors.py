"""The one error a command hands its user: a message and the program's exit status.

Field tooling and provisioning raise it; the CLI prints the message and exits with the
status. Never a traceback."""


class ToolError(Exception):
    """A message for the technician; `status` is the program's exit status."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


INPUT = 2      # bad input: a file, an option
FAILED = 1     # a step on the device (or the toolchain) failed
