// SPDX-License-Identifier: MIT
/*
 * net_rpc.c - helpers for the Request/Response envelopes: status names and responses with a
 * one-line message for a person.
 */
#include <stdarg.h>
#include <stdio.h>

#include "net.h"

const char *nsim_status_name(Numasim__Status status)
{
	static const char *const names[] = {
		[NUMASIM__STATUS__STATUS_OK] = "OK",
		[NUMASIM__STATUS__STATUS_ENOMEM] = "ENOMEM",
		[NUMASIM__STATUS__STATUS_EINVAL] = "EINVAL",
		[NUMASIM__STATUS__STATUS_EPERM] = "EPERM",
		[NUMASIM__STATUS__STATUS_BAD_PAGE_STATE] = "BAD_PAGE_STATE",
		[NUMASIM__STATUS__STATUS_ENODEV] = "ENODEV",
		[NUMASIM__STATUS__STATUS_PROTOCOL_ERROR] = "PROTOCOL_ERROR",
		[NUMASIM__STATUS__STATUS_FRAME_TOO_LARGE] = "FRAME_TOO_LARGE",
		[NUMASIM__STATUS__STATUS_UNKNOWN_OP] = "UNKNOWN_OP",
		[NUMASIM__STATUS__STATUS_VERSION_MISMATCH] = "VERSION_MISMATCH",
		[NUMASIM__STATUS__STATUS_ENOENT] = "ENOENT",
		[NUMASIM__STATUS__STATUS_EBUSY] = "EBUSY",
		[NUMASIM__STATUS__STATUS_EEXIST] = "EEXIST",
		[NUMASIM__STATUS__STATUS_EAGAIN] = "EAGAIN",
	};

	if ((unsigned int)status < sizeof(names) / sizeof(names[0]) && names[status])
		return names[status];
	return "UNKNOWN_STATUS";
}

void nsim_response_vinit(Numasim__Response *r, uint64_t id, Numasim__Status status, char *msgbuf,
			 size_t msglen, const char *fmt, va_list ap)
{
	numasim__response__init(r);
	r->id = id;
	r->status = status;
	if (fmt && msgbuf && msglen) {
		vsnprintf(msgbuf, msglen, fmt, ap);
		r->message = msgbuf;
	}
}

void nsim_response_init(Numasim__Response *r, uint64_t id, Numasim__Status status, char *msgbuf,
			size_t msglen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nsim_response_vinit(r, id, status, msgbuf, msglen, fmt, ap);
	va_end(ap);
}
