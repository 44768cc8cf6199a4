"""The domain core: customers, contact points, preferences, consents and the gate.

Nothing here imports FastAPI: the API is one way in, the CLI another, tests a third.
"""
