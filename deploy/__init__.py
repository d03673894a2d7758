"""Shepherd into an AWS account: `shepherd deploy`, `shepherd secrets set`, `shepherd doctor`.

Operator tooling, run from a clone with the development install; never shipped in the package.
`deploy/member-account.yaml` is the role a member account gives Shepherd.
"""
