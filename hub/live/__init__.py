"""Live updates: what a write announces, how announcements reach every hub process, and how
a subscriber follows a feed without missing what it may see.

- ``announcements``: services announce a change in the writing transaction; nothing is
  delivered unless that transaction commits.
- ``broker``: each process fans announcements out to its subscribers, never waiting on one.
- ``listener``: on PostgreSQL, one LISTEN connection per process feeds the broker.
- ``feeds``: what each feed shows a viewer (the one visibility rule) and what it missed.
- ``follow``: a subscriber's loop: catch up, then live, and catch up again after a gap.
"""
