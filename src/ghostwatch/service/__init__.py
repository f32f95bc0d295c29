"""The imperative shell: the pipeline every command and cycle takes, one cycle per account
(collect → decide → apply, through the action ledger), the runner and daemon that schedule
cycles, their health and metrics, and the wiring from settings to providers."""
