"""A simulated shop floor for demos, tests and load tests: `manage.py simulate_machines` (docs/simulator.md).

`model` is the behaviour of one machine (pure, seeded), `sparkplug` publishes the machines as Sparkplug B
edge nodes, `sinks` sends them to a broker or to a function, `agent` serves one machine as an MTConnect
agent, `opcua_server` one as an OPC UA server, `runner` steps everything through time and `shop` reads
the work centers to simulate.
"""
