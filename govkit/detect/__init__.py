"""Detection: is this value, column or text personal data?"""
