// A synthetic request-serving heap for measuring GC pauses (Cloud Architecture Notepad, data/tools).
// Usage: java [GC flags] GcProbe LIVE_MIB ALLOC_MIB_PER_S SECONDS CHURN_PER_S
// Keeps LIVE_MIB of 1 KiB cache entries alive, replaces CHURN_PER_S of them per second
// (old-generation garbage), and allocates 256 KiB per "request" (half in 4 KiB byte
// arrays, half in 64-byte linked nodes) at ALLOC_MIB_PER_S, paced by sleeping.
// It measures nothing itself: run it with -Xlog:gc... and read the pauses from the log.
import java.util.Random;

public final class GcProbe {
    static final class Entry {
        final long id;
        final byte[] payload = new byte[1000];
        Entry(long id) { this.id = id; payload[(int) (id % 1000)] = (byte) id; }
    }

    static final class Node {
        final Node next;
        final long value;
        Node(Node next, long value) { this.next = next; this.value = value; }
    }

    public static void main(String[] args) throws InterruptedException {
        int liveMib = Integer.parseInt(args[0]);
        double allocMibPerS = Double.parseDouble(args[1]);
        double seconds = Double.parseDouble(args[2]);
        double churnPerS = Double.parseDouble(args[3]);
        int entries = liveMib * 1024;
        Entry[] cache = new Entry[entries];
        for (int i = 0; i < entries; i++) cache[i] = new Entry(i);
        Random random = new Random(1);
        long requestBytes = 256L * 1024;
        double bytesPerNs = allocMibPerS * 1024 * 1024 / 1e9;
        double churnPerNs = churnPerS * entries / 1e9;
        long start = System.nanoTime();
        long requests = 0, churned = 0, sink = 0, next = entries;
        while (true) {
            long now = System.nanoTime() - start;
            if (now > seconds * 1e9) break;
            if (requests * requestBytes > now * bytesPerNs) { Thread.sleep(1); continue; }
            byte[][] buffers = new byte[32][];
            for (int i = 0; i < buffers.length; i++) {
                buffers[i] = new byte[4096];
                buffers[i][i] = (byte) requests;
            }
            Node list = null;
            for (int i = 0; i < 2048; i++) list = new Node(list, i ^ requests);
            sink += buffers[random.nextInt(32)][0] + list.value;
            requests++;
            while (churned < now * churnPerNs) {
                cache[random.nextInt(entries)] = new Entry(next++);
                churned++;
            }
        }
        System.out.println("requests=" + requests + " churned=" + churned + " sink=" + sink);
    }
}
