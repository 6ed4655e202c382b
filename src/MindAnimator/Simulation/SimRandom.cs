namespace MindAnimator.Simulation;

/// <summary>
/// xoshiro256** with SplitMix64 seeding. Every random draw of the simulator comes from a stream keyed by
/// (seed, purpose, indices), so results do not depend on thread count or on the order work is scheduled in.
/// </summary>
public struct SimRandom
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;
    private double _spareGaussian;
    private bool _hasSpare;

    public SimRandom(ulong seed)
    {
        var x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
        _spareGaussian = 0;
        _hasSpare = false;
    }

    /// <summary>An independent stream for a purpose and up to three indices (e.g. segment, repeat, voxel block).</summary>
    public static SimRandom For(int seed, Stream purpose, long a = 0, long b = 0, long c = 0)
    {
        var h = Mix((ulong)(uint)seed ^ 0x9E3779B97F4A7C15UL);
        h = Mix(h ^ (ulong)purpose);
        h = Mix(h ^ (ulong)a);
        h = Mix(h ^ ((ulong)b * 0xBF58476D1CE4E5B9UL));
        h = Mix(h ^ ((ulong)c * 0x94D049BB133111EBUL));
        return new SimRandom(h);
    }

    /// <summary>The purposes random streams are drawn for.</summary>
    public enum Stream : ulong
    {
        Scenes = 0x5C3E,
        Captions = 0xCA97,
        Tuning = 0x7A1E,
        Noise = 0x4015E,
        Drift = 0xD21F7,
        Test = 0x7E57,
    }

    public ulong NextUInt64()
    {
        var result = RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public double Uniform(double lo, double hi) => lo + ((hi - lo) * NextDouble());

    /// <summary>Uniform integer in [0, n).</summary>
    public int NextInt(int n) => (int)((NextUInt64() >> 33) * (ulong)n >> 31);

    public bool Chance(double p) => NextDouble() < p;

    public T Pick<T>(IReadOnlyList<T> items) => items[NextInt(items.Count)];

    /// <summary>Standard normal (Box–Muller, both values used).</summary>
    public double NextGaussian()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return _spareGaussian;
        }
        double u1;
        do
        {
            u1 = NextDouble();
        }
        while (u1 <= double.Epsilon);
        var u2 = NextDouble();
        var r = Math.Sqrt(-2.0 * Math.Log(u1));
        var (sin, cos) = Math.SinCos(2 * Math.PI * u2);
        _spareGaussian = r * sin;
        _hasSpare = true;
        return r * cos;
    }

    /// <summary>Fills <paramref name="dest"/> with standard normal floats times <paramref name="scale"/>.</summary>
    public void FillGaussian(Span<float> dest, float scale)
    {
        var i = 0;
        for (; i + 1 < dest.Length; i += 2)
        {
            double u1;
            do
            {
                u1 = NextDouble();
            }
            while (u1 <= double.Epsilon);
            var r = scale * (float)Math.Sqrt(-2.0 * Math.Log(u1));
            var (sin, cos) = MathF.SinCos(2f * MathF.PI * (float)NextDouble());
            dest[i] = r * cos;
            dest[i + 1] = r * sin;
        }
        if (i < dest.Length)
        {
            dest[i] = scale * (float)NextGaussian();
        }
    }

    private static ulong SplitMix(ref ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        return Mix(x);
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));
}
