"""Evidence attachments: the upload field, reading the files, and the download every owner shares."""
