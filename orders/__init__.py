"""Orders: products, orders and their states, and the staff selling pages. Never imports
``printing``: printing listens to ``post_save`` of ``Order`` (printing/receivers.py)."""
