"""FAKE ``pywintypes`` for tests on Linux — NOT pywin32: only the ``error`` exception."""


class error(Exception):
    def __init__(self, winerror=0, funcname="", strerror=""):
        super().__init__(winerror, funcname, strerror)
        self.winerror, self.funcname, self.strerror = winerror, funcname, strerror
