"""The shared tenancy layer: which clinic a request, job or command acts for.

Nothing here imports ``app``; the product builds on these pieces.
"""
