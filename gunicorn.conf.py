"""gunicorn settings, read from the project folder whenever gunicorn is started from it."""
import gc


def post_worker_init(worker):
    """Freeze what loading the app created (about 250,000 objects: Flask, SQLAlchemy, pandas,
    matplotlib…) out of the garbage collector's sight. Otherwise a page that builds many objects
    (a draw's frozen population) sets off full collections that walk all of them, about a tenth
    of a second each on these machines, every second or third such request."""
    gc.freeze()
