using System.Buffers.Binary;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using TorchSharp;

namespace MindAnimator.Native;

/// <summary>
/// Makes TorchSharp's native library load on systems whose libstdc++ predates GLIBCXX_3.4.32 (Debian 12).
/// The only symbol needing that version is an unused marker, so a copy of libLibTorchSharp.so whose
/// GLIBCXX_3.4.32 requirement is flagged weak loads and works. Where the original loads, nothing is patched.
/// </summary>
public static class TorchNativeLoader
{
    private const string LibraryName = "LibTorchSharp";
    private const string FileName = "libLibTorchSharp.so";
    private const string WeakenedVersion = "GLIBCXX_3.4.32";

    private static readonly object Gate = new();
    private static bool _done;
    private static IntPtr _handle;

    /// <summary>Where the native library came from: "original", "patched", or "not needed" (non-Linux).</summary>
    public static string LoadMode { get; private set; } = "not loaded";

    /// <summary>Full path of the libLibTorchSharp.so that was loaded.</summary>
    public static string? LoadedFrom { get; private set; }

#pragma warning disable CA2255 // loading the native library before any TorchSharp call is exactly this use
    [ModuleInitializer]
    internal static void Initialize() => EnsureLoaded();
#pragma warning restore CA2255

    /// <summary>Idempotent; safe to call from any assembly's module initializer.</summary>
    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (_done)
            {
                return;
            }
            _done = true;
            if (!OperatingSystem.IsLinux())
            {
                LoadMode = "not needed";
                return;
            }
            var folder = FindNativeFolder();
            if (folder is null)
            {
                LoadMode = "not found (TorchSharp will search itself)";
                return;
            }
            var original = Path.Combine(folder, FileName);
            if (NativeLibrary.TryLoad(original, out _handle))
            {
                LoadMode = "original";
                LoadedFrom = original;
                return;
            }
            // The patched copy lives elsewhere, so its DT_NEEDED libraries must already be in the process.
            foreach (var dep in new[] { "libc10.so", "libtorch_cpu.so", "libtorch.so", "libc10_cuda.so", "libtorch_cuda.so" })
            {
                var p = Path.Combine(folder, dep);
                if (File.Exists(p))
                {
                    NativeLibrary.TryLoad(p, out _);
                }
            }
            var patched = PatchedCopy(original);
            _handle = NativeLibrary.Load(patched);
            LoadMode = "patched";
            LoadedFrom = patched;
            NativeLibrary.SetDllImportResolver(typeof(torch).Assembly, Resolve);
        }
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path) =>
        name is LibraryName or FileName or "libLibTorchSharp" ? _handle : IntPtr.Zero;

    private static string? FindNativeFolder()
    {
        var candidates = new List<string>();
        var torchDir = Path.GetDirectoryName(typeof(torch).Assembly.Location);
        foreach (var dir in new[] { AppContext.BaseDirectory, torchDir })
        {
            if (string.IsNullOrEmpty(dir))
            {
                continue;
            }
            candidates.Add(dir);
            candidates.Add(Path.Combine(dir, "runtimes", RuntimeInformation.RuntimeIdentifier, "native"));
            candidates.Add(Path.Combine(dir, "runtimes", "linux-x64", "native"));
        }
        return candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, FileName)));
    }

    private static string PatchedCopy(string original)
    {
        var bytes = File.ReadAllBytes(original);
        var hash = Convert.ToHexString(SHA256.HashData(bytes))[..16].ToLowerInvariant();
        var cacheRoot = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (string.IsNullOrEmpty(cacheRoot))
        {
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            cacheRoot = string.IsNullOrEmpty(home) ? Path.GetTempPath() : Path.Combine(home, ".cache");
        }
        foreach (var root in new[] { cacheRoot, Path.GetTempPath() })
        {
            try
            {
                var dir = Path.Combine(root, "mindanim", "native", hash);
                var target = Path.Combine(dir, FileName);
                if (File.Exists(target))
                {
                    return target;
                }
                Directory.CreateDirectory(dir);
                if (!ElfVersionPatch.WeakenVersionRequirement(bytes, WeakenedVersion))
                {
                    throw new InvalidOperationException($"{original}: no {WeakenedVersion} requirement to weaken, yet the library does not load.");
                }
                var tmp = target + "." + Environment.ProcessId + ".tmp";
                File.WriteAllBytes(tmp, bytes);
                File.Move(tmp, target, overwrite: true);
                return target;
            }
            catch (UnauthorizedAccessException)
            {
            }
            catch (IOException)
            {
            }
        }
        throw new IOException($"Could not write a patched copy of {original} to {cacheRoot} or {Path.GetTempPath()}.");
    }
}

/// <summary>Edits the ELF .gnu.version_r section in memory.</summary>
public static class ElfVersionPatch
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    /// <summary>Sets VER_FLG_WEAK on every Vernaux entry named <paramref name="version"/>; true when one was found.</summary>
    public static bool WeakenVersionRequirement(byte[] elf, string version)
    {
        var span = elf.AsSpan();
        if (elf.Length < 64 || !span[..4].SequenceEqual("\u007fELF"u8) || elf[4] != 2 || elf[5] != 1)
        {
            throw new InvalidDataException("Not a little-endian 64-bit ELF file.");
        }
        var shoff = (long)BinaryPrimitives.ReadUInt64LittleEndian(span[0x28..]);
        int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(span[0x3A..]);
        int shnum = BinaryPrimitives.ReadUInt16LittleEndian(span[0x3C..]);
        var found = false;
        for (var i = 0; i < shnum; i++)
        {
            var sh = span[(int)(shoff + (i * shentsize))..];
            if (BinaryPrimitives.ReadUInt32LittleEndian(sh[4..]) != ShtGnuVerneed)
            {
                continue;
            }
            var offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(sh[24..]);
            var link = BinaryPrimitives.ReadUInt32LittleEndian(sh[40..]);
            var count = BinaryPrimitives.ReadUInt32LittleEndian(sh[44..]);
            var strSh = span[(int)(shoff + (link * shentsize))..];
            var strOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(strSh[24..]);
            var need = offset;
            for (var n = 0; n < count; n++)
            {
                var vn = span[(int)need..];
                int cnt = BinaryPrimitives.ReadUInt16LittleEndian(vn[2..]);
                var aux = need + BinaryPrimitives.ReadUInt32LittleEndian(vn[8..]);
                for (var a = 0; a < cnt; a++)
                {
                    var va = span[(int)aux..];
                    var name = ReadCString(span, strOffset + BinaryPrimitives.ReadUInt32LittleEndian(va[8..]));
                    if (name == version)
                    {
                        var flags = BinaryPrimitives.ReadUInt16LittleEndian(va[4..]);
                        BinaryPrimitives.WriteUInt16LittleEndian(span[(int)(aux + 4)..], (ushort)(flags | VerFlgWeak));
                        found = true;
                    }
                    aux += BinaryPrimitives.ReadUInt32LittleEndian(va[12..]);
                }
                need += BinaryPrimitives.ReadUInt32LittleEndian(vn[12..]);
            }
        }
        return found;
    }

    private static string ReadCString(ReadOnlySpan<byte> span, long offset)
    {
        var s = span[(int)offset..];
        var end = s.IndexOf((byte)0);
        return Encoding.ASCII.GetString(s[..end]);
    }
}
