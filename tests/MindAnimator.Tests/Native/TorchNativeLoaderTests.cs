using System.Buffers.Binary;
using MindAnimator.Native;
using MindAnimator.Tests.Infrastructure;
using TorchSharp;

namespace MindAnimator.Tests.Native;

public class TorchNativeLoaderTests
{
    [Fact]
    public void TorchComputesAfterLoaderRan()
    {
        TorchNativeLoader.EnsureLoaded();
        using var t = torch.arange(5, dtype: torch.float32);
        Assert.Equal(10f, t.sum().item<float>());
        Assert.Contains(TorchNativeLoader.LoadMode, new[] { "original", "patched" });
        Assert.True(File.Exists(TorchNativeLoader.LoadedFrom));
    }

    [Fact]
    public void WeakFlagIsSetOnlyOnTheNamedVersion()
    {
        var original = Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");
        Assert.True(File.Exists(original), original);
        var bytes = File.ReadAllBytes(original);
        var before = (byte[])bytes.Clone();
        Assert.True(ElfVersionPatch.WeakenVersionRequirement(bytes, "GLIBCXX_3.4.32"));
        var changed = Enumerable.Range(0, bytes.Length).Where(i => bytes[i] != before[i]).ToArray();
        // Exactly one 16-bit vna_flags field changes, by the VER_FLG_WEAK bit.
        Assert.InRange(changed.Length, 1, 2);
        var at = changed[0] & ~1;
        var flagsBefore = BinaryPrimitives.ReadUInt16LittleEndian(before.AsSpan(at));
        var flagsAfter = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at));
        Assert.Equal(flagsBefore | 2, (int)flagsAfter);
        Assert.False(ElfVersionPatch.WeakenVersionRequirement((byte[])before.Clone(), "GLIBCXX_9.9.99"));
    }

    [Fact]
    public void RejectsNonElfInput()
    {
        var ex = Assert.Throws<InvalidDataException>(() => ElfVersionPatch.WeakenVersionRequirement(new byte[128], "x"));
        Assert.Contains("ELF", ex.Message);
    }
}
