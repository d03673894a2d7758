"""Inbound payloads: pydantic mirrors of the AWS shapes and their translation into signals."""
