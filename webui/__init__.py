"""courtav webui package."""
