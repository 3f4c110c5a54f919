/*
 * The ns-3 backend: one ns-3 simulation per chan_transmit call, built from
 * the stock ns-3 3.37 modules, so that results can be compared with our own
 * models (channels/ieee802154.c) and with what ns-3 users get.
 *
 * Process-wide state: g_ns3_lock, and nothing else of ours. ns-3 keeps its
 * simulator, node list, random-number configuration and log settings in
 * process-wide singletons and is not thread-safe, while the runner calls
 * chan_transmit from several threads; so each simulation holds this lock
 * from its first ns-3 call to Simulator::Destroy.
 *
 * Reproducibility: ns-3 numbers its random streams from a process-wide
 * counter, so a stream's draws would depend on what ran earlier in the
 * process. Each run therefore sets RngSeedManager's seed and run from the
 * caller's util_rng and fixes the streams of every object whose draws
 * matter with AssignStreams (CSMA/CA backoffs, PHY reception draws, the
 * point-to-point error model). What is left on automatic streams (the MAC's
 * initial sequence numbers) does not change any arrival.
 *
 * Facts this relies on (ns-3 3.37; /work/shared/LPWAN.md):
 *   - an LrWpanNetDevice must be attached to a node before it is destroyed;
 *   - PointToPointNetDevice::Send accepts only IPv4/IPv6 protocol numbers,
 *     adds a 2-byte PPP header, and its queue holds 100 packets by default
 *     (sized here to the stream);
 *   - ns-3 ends the process on bad input: chan_ns3_*_check runs first.
 */
#include "channels/ns3/ns3shim.h"

#include <cmath>
#include <exception>
#include <map>
#include <mutex>
#include <vector>

#include <ns3/constant-position-mobility-model.h>
#include <ns3/core-module.h>
#include <ns3/drop-tail-queue.h>
#include <ns3/error-model.h>
#include <ns3/lr-wpan-error-model.h>
#include <ns3/lr-wpan-mac.h>
#include <ns3/lr-wpan-net-device.h>
#include <ns3/lr-wpan-phy.h>
#include <ns3/lr-wpan-spectrum-value-helper.h>
#include <ns3/node.h>
#include <ns3/packet.h>
#include <ns3/point-to-point-channel.h>
#include <ns3/point-to-point-net-device.h>
#include <ns3/propagation-delay-model.h>
#include <ns3/propagation-loss-model.h>
#include <ns3/single-model-spectrum-channel.h>

using namespace ns3;

namespace
{

std::mutex g_ns3_lock;

/* Packets are handed to the sender at this time, after the nodes have
 * initialised (the lr-wpan MAC switches its radio to RX_ON at t = 0, which
 * takes a turnaround time); reported times are relative to it. */
const double T0 = 0.001;

/* lr-wpan channel 11 (2405 MHz), the PHY's default. */
const uint32_t LRWPAN_CHANNEL = 11;
const uint16_t PAN_ID = 0x1234;

/* Per-run bookkeeping, shared with the trace sinks. */
struct Run
{
    size_t n;
    const uint8_t *retry;           /* lr-wpan: per packet, may ask for an ACK */
    chan_arrival *out;
    chan_stats *st;
    std::map<uint64_t, size_t> uid; /* packet uid -> index in the stream */
    size_t cur;                     /* lr-wpan: the packet the MAC is serving */
    std::vector<char> started;
};

double now_rel()
{
    return Simulator::Now().GetSeconds() - T0;
}

void mark_arrival(Run *r, uint64_t uid)
{
    auto it = r->uid.find(uid);
    if (it == r->uid.end())
        return;
    chan_arrival *a = &r->out[it->second];
    if (!a->arrived) { /* a retransmission whose ACK was lost arrives again */
        a->arrived = 1;
        a->t_arrive = now_rel();
    }
}

void init_out(Run *r)
{
    for (size_t i = 0; i < r->n; i++)
        r->out[i] = chan_arrival{0, 0, 0.0, INFINITY};
    *r->st = chan_stats{};
    r->started.assign(r->n, 0);
    r->cur = 0;
}

void finish_stats(Run *r)
{
    for (size_t i = 0; i < r->n; i++) {
        r->st->attempts += (size_t)r->out[i].attempts;
        if (!r->out[i].arrived)
            r->st->lost++;
    }
}

/* ---- point-to-point ------------------------------------------------------ */

const uint16_t PROTO_IPV4 = 0x0800;
const size_t PPP_HEADER = 2;

void p2p_tx_begin(Run *r, Ptr<const Packet> p)
{
    auto it = r->uid.find(p->GetUid());
    if (it == r->uid.end())
        return;
    chan_arrival *a = &r->out[it->second];
    a->t_start = now_rel();
    a->attempts = 1;
}

bool p2p_receive(Run *r, Ptr<NetDevice>, Ptr<const Packet> p, uint16_t,
                 const Address &)
{
    mark_arrival(r, p->GetUid());
    return true;
}

void p2p_simulate(const chan_ns3_p2p_cfg *cfg, const size_t *len, Run *r)
{
    Ptr<Node> n0 = CreateObject<Node>();
    Ptr<Node> n1 = CreateObject<Node>();
    Ptr<PointToPointChannel> ch = CreateObject<PointToPointChannel>();
    ch->SetAttribute("Delay", TimeValue(Seconds(cfg->delay)));
    Ptr<PointToPointNetDevice> d[2];
    Ptr<Node> nodes[2] = {n0, n1};
    for (int k = 0; k < 2; k++) {
        d[k] = CreateObject<PointToPointNetDevice>();
        d[k]->SetAddress(Mac48Address::Allocate());
        d[k]->SetDataRate(DataRate((uint64_t)cfg->bitrate));
        Ptr<DropTailQueue<Packet>> q = CreateObject<DropTailQueue<Packet>>();
        q->SetMaxSize(QueueSize(QueueSizeUnit::PACKETS, (uint32_t)r->n + 1));
        d[k]->SetQueue(q);
        nodes[k]->AddDevice(d[k]);
        d[k]->Attach(ch);
    }
    if (cfg->loss > 0) {
        Ptr<RateErrorModel> em = CreateObject<RateErrorModel>();
        em->SetUnit(RateErrorModel::ERROR_UNIT_PACKET);
        em->SetRate(cfg->loss);
        em->AssignStreams(0);
        d[1]->SetReceiveErrorModel(em);
    }
    d[1]->SetReceiveCallback(MakeBoundCallback(&p2p_receive, r));
    d[0]->TraceConnectWithoutContext("PhyTxBegin",
                                     MakeBoundCallback(&p2p_tx_begin, r));

    std::vector<Ptr<Packet>> pkts;
    for (size_t i = 0; i < r->n; i++) {
        Ptr<Packet> p = Create<Packet>((uint32_t)len[i]);
        r->uid[p->GetUid()] = i;
        pkts.push_back(p);
        r->st->airtime += (double)(len[i] + PPP_HEADER) * 8.0 / cfg->bitrate;
        r->st->bytes_on_air += len[i] + PPP_HEADER;
    }
    Address dst = d[1]->GetAddress();
    Ptr<PointToPointNetDevice> src = d[0];
    Simulator::Schedule(Seconds(T0), [pkts, src, dst]() {
        for (const Ptr<Packet> &p : pkts)
            src->Send(p, dst, PROTO_IPV4);
    });
    Simulator::Run();
    /* The sender is done when its last packet has left the wire. */
    for (size_t i = 0; i < r->n; i++) {
        double end = r->out[i].t_start +
                     (double)(len[i] + PPP_HEADER) * 8.0 / cfg->bitrate;
        if (r->out[i].attempts && end > r->st->t_end)
            r->st->t_end = end;
    }
    Simulator::Destroy();
}

/* ---- lr-wpan ------------------------------------------------------------- */

/* IEEE 802.15.4-2006 O-QPSK 2.4 GHz: 250 kbit/s; SHR (4-byte preamble and
 * SFD) and PHR add 6 bytes to every PSDU on air. */
const double LRWPAN_BITRATE = 250e3;
const size_t LRWPAN_PHY_HEADER = 6;

void lr_state(Run *r, LrWpanMacState, LrWpanMacState now)
{
    /* The MAC takes up the head-of-queue packet when it enters CSMA/CA;
     * later entries for the same packet are its retransmissions. */
    if (now == MAC_CSMA && r->cur < r->n && !r->started[r->cur]) {
        r->started[r->cur] = 1;
        r->out[r->cur].t_start = now_rel();
    }
}

void lr_tx_begin(Run *r, Ptr<const Packet> p)
{
    /* Only data frames leave the sender's PHY (ACKs come from the peer). */
    if (r->cur < r->n)
        r->out[r->cur].attempts++;
    r->st->airtime += (double)(p->GetSize() + LRWPAN_PHY_HEADER) * 8.0 /
                      LRWPAN_BITRATE;
    r->st->bytes_on_air += p->GetSize() + LRWPAN_PHY_HEADER;
}

void lr_confirm(Run *r, McpsDataConfirmParams)
{
    /* Confirms come in queue order: success or NO_ACK after the last retry. */
    r->cur++;
    r->st->t_end = now_rel();
}

void lr_indication(Run *r, McpsDataIndicationParams, Ptr<Packet> p)
{
    mark_arrival(r, p->GetUid());
}

void lrwpan_simulate(const chan_ns3_lrwpan_cfg *cfg, const size_t *len,
                     Run *r)
{
    Ptr<SingleModelSpectrumChannel> ch =
        CreateObject<SingleModelSpectrumChannel>();
    /* Stock defaults: exponent 3, reference distance 1 m, reference loss
     * 46.6777 dB (free space at 1 m, 2.4 GHz). */
    ch->AddPropagationLossModel(CreateObject<LogDistancePropagationLossModel>());
    ch->SetPropagationDelayModel(
        CreateObject<ConstantSpeedPropagationDelayModel>());

    LrWpanSpectrumValueHelper svh;
    Ptr<LrWpanNetDevice> d[2];
    const char *addr[2] = {"00:01", "00:02"};
    for (int k = 0; k < 2; k++) {
        Ptr<Node> node = CreateObject<Node>();
        d[k] = CreateObject<LrWpanNetDevice>();
        d[k]->SetAddress(Mac16Address(addr[k]));
        d[k]->GetMac()->SetPanId(PAN_ID);
        d[k]->SetChannel(ch);
        node->AddDevice(d[k]);
        Ptr<ConstantPositionMobilityModel> mob =
            CreateObject<ConstantPositionMobilityModel>();
        mob->SetPosition(Vector(k ? cfg->distance : 0.0, 0, 0));
        d[k]->GetPhy()->SetMobility(mob);
        d[k]->GetPhy()->SetTxPowerSpectralDensity(
            svh.CreateTxPowerSpectralDensity(cfg->tx_power, LRWPAN_CHANNEL));
        d[k]->GetPhy()->SetErrorModel(CreateObject<LrWpanErrorModel>());
        d[k]->GetMac()->SetMacMaxFrameRetries((uint8_t)cfg->retries);
        d[k]->AssignStreams(100 * k);
    }
    d[0]->GetMac()->SetMcpsDataConfirmCallback(
        MakeBoundCallback(&lr_confirm, r));
    d[1]->GetMac()->SetMcpsDataIndicationCallback(
        MakeBoundCallback(&lr_indication, r));
    d[0]->GetMac()->TraceConnectWithoutContext(
        "MacState", MakeBoundCallback(&lr_state, r));
    d[0]->GetPhy()->TraceConnectWithoutContext(
        "PhyTxBegin", MakeBoundCallback(&lr_tx_begin, r));

    McpsDataRequestParams params;
    params.m_srcAddrMode = SHORT_ADDR;
    params.m_dstAddrMode = SHORT_ADDR;
    params.m_dstPanId = PAN_ID;
    params.m_dstAddr = Mac16Address(addr[1]);
    std::vector<Ptr<Packet>> pkts;
    std::vector<uint8_t> ack;
    for (size_t i = 0; i < r->n; i++) {
        Ptr<Packet> p = Create<Packet>((uint32_t)len[i]);
        r->uid[p->GetUid()] = i;
        pkts.push_back(p);
        ack.push_back(cfg->ack && (cfg->retries == 0 || !r->retry || r->retry[i]));
    }
    Ptr<LrWpanMac> mac = d[0]->GetMac();
    Simulator::Schedule(Seconds(T0), [pkts, ack, mac, params]() {
        McpsDataRequestParams q = params;
        for (size_t i = 0; i < pkts.size(); i++) {
            q.m_msduHandle = (uint8_t)i;
            q.m_txOptions = ack[i] ? TX_OPTION_ACK : TX_OPTION_NONE;
            mac->McpsDataRequest(q, pkts[i]);
        }
    });
    Simulator::Run();
    Simulator::Destroy();
}

/* Runs one simulation under the lock; ns-3 must not leak an exception into
 * C callers. */
template <typename Cfg>
int run_locked(void (*simulate)(const Cfg *, const size_t *, Run *),
               const Cfg *cfg, chan_ns3_seed seed, const size_t *len,
               const uint8_t *retry, size_t n, chan_arrival *out,
               chan_stats *stats, util_err *err, const char *what)
{
    Run r;
    r.n = n;
    r.retry = retry;
    r.out = out;
    r.st = stats;
    std::lock_guard<std::mutex> guard(g_ns3_lock);
    try {
        LogComponentDisableAll(LOG_LEVEL_ALL);
        RngSeedManager::SetSeed(seed.seed);
        RngSeedManager::SetRun(seed.run);
        init_out(&r);
        simulate(cfg, len, &r);
        finish_stats(&r);
    } catch (const std::exception &e) {
        Simulator::Destroy();
        return util_errf(err, "%s: ns-3 failed: %s", what, e.what());
    }
    return 0;
}

int check_lengths(const char *what, const size_t *len, size_t n, size_t max,
                  util_err *err)
{
    for (size_t i = 0; i < n; i++)
        if (len[i] < 1 || len[i] > max)
            return util_errf(err, "%s: packet %zu: %zu bytes (must be 1..%zu)",
                             what, i, len[i], max);
    if (n > 0xFFFFFFF0u)
        return util_errf(err, "%s: %zu packets are too many", what, n);
    return 0;
}

} // namespace

extern "C" int chan_ns3_p2p_check(const chan_ns3_p2p_cfg *cfg, util_err *err)
{
    if (!(cfg->bitrate >= 1 && cfg->bitrate <= 1e12) ||
        cfg->bitrate != std::floor(cfg->bitrate))
        return util_errf(err, "bitrate: expected a whole number of bit/s in "
                              "[1, 1e12] (ns-3 DataRate), got %g",
                         cfg->bitrate);
    if (!(cfg->delay >= 0 && cfg->delay <= 1e6))
        return util_errf(err, "delay: expected seconds in [0, 1e6], got %g",
                         cfg->delay);
    if (!(cfg->loss >= 0 && cfg->loss <= 1))
        return util_errf(err, "loss: expected a probability in [0, 1], got %g",
                         cfg->loss);
    return 0;
}

extern "C" int chan_ns3_lrwpan_check(const chan_ns3_lrwpan_cfg *cfg,
                                     util_err *err)
{
    if (!(cfg->distance > 1 && cfg->distance <= 1e6))
        return util_errf(err, "distance: expected metres in (1, 1e6] (beyond "
                              "the 1 m reference distance), got %g",
                         cfg->distance);
    if (!(cfg->tx_power >= -40 && cfg->tx_power <= 30))
        return util_errf(err, "tx_power: expected dBm in [-40, 30], got %g",
                         cfg->tx_power);
    if (cfg->retries < 0 || cfg->retries > 7)
        return util_errf(err, "retries: expected 0..7 (macMaxFrameRetries), "
                              "got %d", cfg->retries);
    return 0;
}

extern "C" int chan_ns3_p2p_run(const chan_ns3_p2p_cfg *cfg,
                                chan_ns3_seed seed, const size_t *len,
                                size_t n, chan_arrival *out,
                                chan_stats *stats, util_err *err)
{
    if (chan_ns3_p2p_check(cfg, err) ||
        check_lengths("ns3_p2p", len, n, 65535, err))
        return -1;
    if (seed.seed == 0)
        return util_errf(err, "ns3_p2p: ns-3 seed must be >= 1");
    return run_locked(&p2p_simulate, cfg, seed, len, nullptr, n, out, stats,
                      err, "ns3_p2p");
}

extern "C" int chan_ns3_lrwpan_run(const chan_ns3_lrwpan_cfg *cfg,
                                   chan_ns3_seed seed, const size_t *len,
                                   const uint8_t *retry, size_t n,
                                   chan_arrival *out, chan_stats *stats,
                                   util_err *err)
{
    if (chan_ns3_lrwpan_check(cfg, err) ||
        check_lengths("ns3_lrwpan", len, n, CHAN_NS3_LRWPAN_MAX_PAYLOAD, err))
        return -1;
    if (seed.seed == 0)
        return util_errf(err, "ns3_lrwpan: ns-3 seed must be >= 1");
    return run_locked(&lrwpan_simulate, cfg, seed, len, retry, n, out, stats,
                      err, "ns3_lrwpan");
}
