"""The sync engine: plan fields, read windows over Bulk API 2.0 or REST, write records.

Nothing here imports ``requests``: every Salesforce call goes through the client that
``connections.services.salesforce_client_for`` builds (invariant 2).
"""
