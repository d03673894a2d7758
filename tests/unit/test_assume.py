"""A member account's session reuses what Shepherd's own session has read."""

from __future__ import annotations

import boto3
import botocore.loaders
import botocore.session

from chalicelib.accounts import Account
from chalicelib.aws.assume import assumed_session


def test_a_member_session_reads_no_service_model_again() -> None:
    """Each botocore session parses its service models anew (tens of ms a service, on every
    member account of a fleet-wide audit) unless it is given the loader that has them."""
    core = botocore.session.get_session()
    core.register_component("data_loader", botocore.loaders.Loader())
    sts = boto3.Session(botocore_session=core, region_name="us-east-1").client("sts")
    member = Account("210987654321", "staging", "arn:aws:iam::210987654321:role/shepherd")
    session = assumed_session(sts, member, "eu-west-1", session_name="shepherd-read")
    assert session._session.get_component("data_loader") is sts._loader
    assert session.region_name == "eu-west-1"
