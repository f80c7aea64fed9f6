"""courtav recorder package."""
