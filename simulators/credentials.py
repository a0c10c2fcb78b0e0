"""The credentials each simulator accepts: fixed, fake, and printed by `jobgraph simulate`."""

from __future__ import annotations

EI_API_KEY = "ei_sim_5f0c1d2e3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
EI_JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzaW0tYWRtaW4iLCJvcmciOjF9.c2ltdWxhdGVkLXNpZ25hdHVyZQ"
ORANGE_API_KEY = "orange-sim-siu-7d3f9a21c4e84b6f"
ORANGE_TOKEN = "orange-sim-bearer-2b8e61f0a9d34c57"
ORANGE_REQUESTER_ID = "SIU-SIM-000042"
METAFOLD_TOKEN = "mf-sim-access-4c2a9e7b18d64f03"
WORKFLOW_TOKEN = "wf-sim-job-readall-9e1d47b2c6a8"
MODELARTS_TOKEN = "MIIsim-iam-token-modelarts-3f6b0d9c2e71a845"

# Env var name -> credential value, as `SimulatorSuite.demo_environ()` hands them to the gateway.
DEMO_ENVIRON: dict[str, str] = {
    "JOBGRAPH_SIM_EI_API_KEY": EI_API_KEY,
    "JOBGRAPH_SIM_ORANGE_API_KEY": ORANGE_API_KEY,
    "JOBGRAPH_SIM_ORANGE_TOKEN": ORANGE_TOKEN,
    "JOBGRAPH_SIM_MF_TOKEN": METAFOLD_TOKEN,
    "JOBGRAPH_SIM_WF_TOKEN": WORKFLOW_TOKEN,
    "JOBGRAPH_SIM_MA_TOKEN": MODELARTS_TOKEN,
}
