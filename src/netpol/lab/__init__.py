"""The lab: the same policies enforced on real packets, in network namespaces and nftables.

Nothing here touches the host's own network namespace: every namespace, link, address,
route and rule lives inside namespaces the lab made, all named after the lab.
"""
