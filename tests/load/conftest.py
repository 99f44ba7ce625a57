"""Load tests share the scenario tests' fixtures: the console command and a fast echo agent."""

from tests.scenario.conftest import cli, echo_url  # noqa: F401 - the fixtures
