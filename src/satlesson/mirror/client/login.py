"""The demo Earthdata login the mirror accepts for protected files.

Light on imports: the mirror writes it to its state folder and ``satlesson kernel install``
to the kernel's folder, so that the lesson's netrc code works against any mirror.
"""

EARTHDATA_MACHINE = "urs.earthdata.nasa.gov"
EARTHDATA_LOGIN = ("satlesson", "offline-mirror")


def netrc_text() -> str:
    login, password = EARTHDATA_LOGIN
    return f"machine {EARTHDATA_MACHINE} login {login} password {password}\n"
