"""The one place boto3 is called: domain method names, typed errors, clients per account and region."""
