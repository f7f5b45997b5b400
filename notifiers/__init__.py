"""Email for complaintflow: sandboxed templates, safe MIME messages, SMTP sending and a development sink.

``notifiers`` knows nothing about storage or flows: the runtime renders with ``templates.TemplateStore``,
builds with ``message.build_message``, sends with ``smtp.send`` and, in development, reads what the
``sink.MailSink`` captured. Every error raised here derives from ``errors.NotifierError``.
"""
