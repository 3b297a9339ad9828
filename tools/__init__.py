"""Developer tooling shared by the tests and the benchmark (bench/): real processes on loopback
(tools.processes) and the one polling helper (tools.polling). Not imported by the server or agent."""
