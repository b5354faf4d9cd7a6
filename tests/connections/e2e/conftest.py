"""End-to-end tests against the bundled Salesforce emulator, served on loopback."""

from tests.connections.emulated import emulated, enqueue  # noqa: F401  (fixtures)
