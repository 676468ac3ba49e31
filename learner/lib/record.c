// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "record.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cidr.h"

int ld_record_decode(const void *data, size_t size, struct learnd_record *rec)
{
	if (!data || size != sizeof(*rec))
		return -EINVAL;
	memcpy(rec, data, sizeof(*rec));
	if (rec->slot >= LEARND_MAX_SLOTS || (rec->flags & ~LEARND_REC_FLAGS_KNOWN))
		return -EINVAL;
	return 0;
}

void ld_record_format(const struct learnd_record *r, char *buf, size_t len)
{
	char addr[LD_CIDR_STRLEN];

	ld_addr_format(r->raddr, addr, sizeof(addr));
	snprintf(buf, len,
		 "record raddr=%s rport=%u lport=%u dir=%s est=%u applied=%u iw_failed=%u iw_kernel=%u prefix_id=%u "
		 "epoch=%u slot=%u iw=%u rwnd=%u syn_rto_ms=%u base_rtt_us=%u handshake_us=%u syn_retrans=%u "
		 "srtt_us=%u min_rtt_us=%u retrans=%u segs_out=%u segs_in=%u snd_wnd=%u mss=%u duration_us=%llu "
		 "busy_us=%llu bytes_acked=%llu bytes_received=%llu snd_cwnd=%u snd_ssthresh=%u rate_delivered=%u "
		 "rate_interval_us=%u flight_lost=%u flight_first=%u flight_last=%u weight=%u",
		 addr, r->rport, r->lport, (r->flags & LEARND_REC_ACTIVE) ? "active" : "passive",
		 !!(r->flags & LEARND_REC_ESTABLISHED), !!(r->flags & LEARND_REC_APPLIED),
		 !!(r->flags & LEARND_REC_IW_FAILED), !!(r->flags & LEARND_REC_IW_KERNEL), r->prefix_id, r->epoch,
		 r->slot, r->iw, r->rwnd, r->syn_rto_ms, r->base_rtt_us, r->handshake_us, r->syn_retrans, r->srtt_us,
		 r->min_rtt_us, r->total_retrans, r->data_segs_out, r->data_segs_in, r->snd_wnd, r->mss,
		 (unsigned long long)r->duration_us, (unsigned long long)r->busy_us,
		 (unsigned long long)r->bytes_acked, (unsigned long long)r->bytes_received, r->snd_cwnd,
		 r->snd_ssthresh, r->rate_delivered, r->rate_interval_us, r->flight_lost, r->flight_first,
		 r->flight_last, r->weight);
}
