namespace MindAnimator.Training;

/// <summary>
/// CPython's <c>random</c> module generator (MT19937 seeded through init_by_array, <c>random()</c> with 53 random bits),
/// so draws the official scripts made with <c>random.seed(n)</c> can be replayed exactly.
/// </summary>
// Follows the MT19937 reference (Matsumoto & Nishimura, mt19937ar.c) as CPython's Modules/_randommodule.c uses it.
public sealed class PythonRandom
{
    private const int N = 624;
    private const int M = 397;
    private readonly uint[] _mt = new uint[N];
    private int _index;

    /// <summary>Equivalent to <c>random.seed(seed)</c> for an integer seed.</summary>
    public PythonRandom(long seed)
    {
        var magnitude = (ulong)Math.Abs(seed);
        var key = new List<uint>();
        do
        {
            key.Add((uint)(magnitude & 0xffffffffUL));
            magnitude >>= 32;
        }
        while (magnitude != 0);
        InitByArray(key.ToArray());
    }

    /// <summary><c>random.random()</c>: a double in [0, 1).</summary>
    public double NextDouble()
    {
        var a = NextUInt32() >> 5;
        var b = NextUInt32() >> 6;
        return ((a * 67108864.0) + b) * (1.0 / 9007199254740992.0);
    }

    /// <summary>The next raw 32-bit output (genrand_int32).</summary>
    public uint NextUInt32()
    {
        if (_index >= N)
        {
            Twist();
        }
        var y = _mt[_index++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680U;
        y ^= (y << 15) & 0xefc60000U;
        y ^= y >> 18;
        return y;
    }

    private void InitGenrand(uint s)
    {
        _mt[0] = s;
        for (var i = 1; i < N; i++)
        {
            _mt[i] = (1812433253U * (_mt[i - 1] ^ (_mt[i - 1] >> 30))) + (uint)i;
        }
        _index = N;
    }

    private void InitByArray(uint[] key)
    {
        InitGenrand(19650218U);
        int i = 1, j = 0;
        for (var k = Math.Max(N, key.Length); k > 0; k--)
        {
            _mt[i] = (_mt[i] ^ ((_mt[i - 1] ^ (_mt[i - 1] >> 30)) * 1664525U)) + key[j] + (uint)j;
            i++;
            j++;
            if (i >= N)
            {
                _mt[0] = _mt[N - 1];
                i = 1;
            }
            if (j >= key.Length)
            {
                j = 0;
            }
        }
        for (var k = N - 1; k > 0; k--)
        {
            _mt[i] = (_mt[i] ^ ((_mt[i - 1] ^ (_mt[i - 1] >> 30)) * 1566083941U)) - (uint)i;
            i++;
            if (i >= N)
            {
                _mt[0] = _mt[N - 1];
                i = 1;
            }
        }
        _mt[0] = 0x80000000U;
    }

    private void Twist()
    {
        for (var k = 0; k < N; k++)
        {
            var y = (_mt[k] & 0x80000000U) | (_mt[(k + 1) % N] & 0x7fffffffU);
            _mt[k] = _mt[(k + M) % N] ^ (y >> 1) ^ ((y & 1U) != 0 ? 0x9908b0dfU : 0U);
        }
        _index = 0;
    }
}
