"""One module per workload family; each takes a Report and a Plan and adds rows and raw figures."""
