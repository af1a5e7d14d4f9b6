"""The errors a user can act on. Anything else that escapes the data layer is a bug."""


class AgentwatchError(Exception):
    """A problem the user can fix. The app shows str(err) with st.error; the CLI prints it and exits 2.

    Messages read "<what failed> (<the offending value>). <what to do>." on one line.
    """


class SourceUnavailable(AgentwatchError):
    """A database or file cannot be opened or read: missing path, refused connection, bad credentials."""


class UnknownSchema(AgentwatchError):
    """The source opened, but its tables or columns match none of the systems Agentwatch reads."""


class BadExport(AgentwatchError):
    """An exported file is malformed: truncated JSON, wrong encoding, binary data, unrelated columns."""


class SourceTooLarge(AgentwatchError):
    """A file or an archive's content is over the size limit Agentwatch accepts."""


class SourceRefused(AgentwatchError):
    """This server's settings do not let the sidebar open that source (AGENTWATCH_ALLOW_PATHS=0)."""


class UploadGone(AgentwatchError):
    """An upload a session was showing has been deleted from the server; it must be uploaded again."""
