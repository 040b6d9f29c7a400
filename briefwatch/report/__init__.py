"""Reports: views over the report contract and one renderer per format."""
