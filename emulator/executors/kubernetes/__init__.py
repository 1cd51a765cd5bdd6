"""Runs each attempt as a Pod on an existing Kubernetes cluster, as AWS Batch on EKS does.

Batch keeps the queues, priorities, fair share, dependencies and retries (the engine); the
cluster runs the attempts. The modules, from the edge inwards:

- `clusters`   which kubeconfig context serves a compute environment's `eksClusterArn`; API clients
- `placement`  what the engine's records say about an attempt's pod: cluster, namespace, pod
               properties, timeout (read through the job and compute environment, never changed)
- `pods`       the Pod manifest for one attempt (pure), in the shape AWS Batch on EKS documents
- `status`     a Pod's status read as the executor's updates (pure)
- `watch`      one watch per cluster and namespace, with a periodic relist as backstop
- `logs`       container output followed into the LogStore
- `adoption`   the labels that find the emulator's pods again after a restart; leftovers
- `executor`   the Executor itself: create, follow, delete, adopt after a restart, clean up
- `routing`    EKS compute environments to the cluster, the others to the local executor

The official `kubernetes` client is imported only by `clusters` and `executor`, and only when a
Kubernetes executor is built (the `kubernetes` extra); the other modules call the client objects
they are given.
"""
