"""The IAM wildcard audit (PRODUCT.md §6): pure analysis over GetAccountAuthorizationDetails."""
