"""The torch VAEs."""
