"""courtav control package."""
