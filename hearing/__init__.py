"""courtav hearing package."""
